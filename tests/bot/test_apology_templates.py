"""Apology templates: whom the greeting addresses, and what the filled draft says."""

from __future__ import annotations

import pytest

from bot.apology_coach import CoachContext, review_apology
from bot.apology_templates import Situation, fill_template, greeting_name, unfilled_placeholders


@pytest.mark.parametrize(
    ("customer_name", "greeting"),
    [
        # One person: the given name.
        ("Dana Cole", "Dana"),
        ("Priya", "Priya"),
        ("  Dana   Cole  ", "Dana"),
        ("priya sharma", "Priya"),
        ("Jean-Luc Picard", "Jean-Luc"),
        ("Zoë Müller", "Zoë"),
        ("Amélie Dupont", "Amélie"),
        ("O'Brien", "O'Brien"),
        ("Robert (Bob) Jones", "Robert"),
        ("Okonkwo, Ada", "Ada"),
        ("J. Smith", "J. Smith"),
        # A title keeps the surname.
        ("Mrs Okonkwo", "Mrs Okonkwo"),
        ("Mrs. Okonkwo", "Mrs. Okonkwo"),
        ("Mr Patel", "Mr Patel"),
        ("Ms Ada Okonkwo", "Ms Okonkwo"),
        ("Miss Hale", "Miss Hale"),
        ("Mx Taylor", "Mx Taylor"),
        ("Dr Jane Smith", "Dr Smith"),
        ("dr jane smith", "Dr Smith"),
        ("Prof. Ian Stewart", "Prof. Stewart"),
        ("Professor Ian Stewart", "Professor Stewart"),
        ("Rev Green", "Rev Green"),
        ("Mr van der Berg", "Mr van der Berg"),
        ("Dr Jane van der Berg", "Dr van der Berg"),
        ("Ms Ní Bhriain", "Ms Ní Bhriain"),
        ("Sir Elton John", "Sir Elton"),
        ("Dame Judi Dench", "Dame Judi"),
        # Two people.
        ("Mr and Mrs Patel", "Mr and Mrs Patel"),
        ("Mr & Mrs Patel", "Mr and Mrs Patel"),
        ("Dr and Mr Jones", "Dr and Mr Jones"),
        ("Anna and Ben Lewis", "Anna and Ben"),
        ("Anna & Ben", "Anna and Ben"),
        # Scripts written without spaces between given and family name: the whole name.
        ("王伟", "王伟"),
        ("山田 太郎", "山田 太郎"),
    ],
)
def test_greeting_names_a_person_as_a_letter_would(customer_name: str, greeting: str) -> None:
    assert greeting_name(customer_name) == greeting


@pytest.mark.parametrize(
    "customer_name",
    [
        None,
        "",
        "   ",
        "Mr",
        "Mrs",
        "Dr.",
        "The Smith wedding party",
        "the Smiths",
        "Smith family",
        "ACME",
        "ACME Ltd",
        "Acme Ltd.",
        "Acme Widgets Limited",
        "Northwind Traders, Inc.",
        "Globex Corporation",
        "Müller GmbH",
        "IBM UK",
        "The Grand Hotel",
        "Riverside Primary School",
        "Finance team",
        "DANA COLE",
        "JP Smith",
        "jo@example.com",
        "Customer 4411",
        "#4411",
        "Tom, Dick and Harry",
        "Anna, Ben and Carl",
        "Anna and Ben and Carl",
        "Dana Cole and ACME",
        "- , ;",
    ],
)
def test_companies_groups_and_unknowns_get_hi_there(customer_name: str | None) -> None:
    assert greeting_name(customer_name) is None
    filled = fill_template(Situation.STANDARD, customer_name=customer_name, summary="Parcel was late")
    assert filled.text.startswith("Hi there,\n")


@pytest.mark.parametrize("situation", list(Situation))
@pytest.mark.parametrize(
    ("customer_name", "opening"),
    [
        ("Mrs Ada Okonkwo", "Hi Mrs Okonkwo,\n"),
        ("The Smith wedding party", "Hi there,\n"),
        (None, "Hi there,\n"),
    ],
)
def test_every_template_opens_with_the_greeting(
    situation: Situation, customer_name: str | None, opening: str
) -> None:
    filled = fill_template(situation, customer_name=customer_name, summary="The cake arrived crushed.")
    assert filled.text.startswith(opening)
    assert "Hi Mrs," not in filled.text and "Hi The," not in filled.text
    assert unfilled_placeholders(filled.text)  # the agent still has to fill in the next step


def test_coaching_examples_greet_the_same_way() -> None:
    titled = CoachContext(
        customer_name="Mrs Ada Okonkwo", summary="Cake arrived crushed", category="delivery"
    )
    text = "\n".join(review_apology("We apologize for any inconvenience.", case_context=titled).coaching)
    assert "Mrs Okonkwo, I'm sorry" in text
    group = CoachContext(customer_name="The Smith wedding party", summary="Cake arrived crushed")
    text = "\n".join(review_apology("We apologize for any inconvenience.", case_context=group).coaching)
    assert "The Smith wedding party," not in text and "“I'm sorry" in text
