"""The playbook: defaults, a team's file in TOML or YAML, errors that name the line, and progress."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.playbook import (
    DEFAULT_PLAYBOOK,
    CaseStep,
    PlaybookError,
    StepRole,
    StepStatus,
    load_playbook,
    progress_of,
)


def test_default_playbook_follows_the_doctrine() -> None:
    keys = [s.key for s in DEFAULT_PLAYBOOK.steps]
    assert keys == ["apologize", "listen", "own", "root_cause", "fix", "amends", "follow_up", "record"]
    assert [s.key for s in DEFAULT_PLAYBOOK.steps if not s.required] == ["amends"]
    assert all(s.why for s in DEFAULT_PLAYBOOK.steps)


def test_toml_file_renames_reorders_drops_and_adds(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text(
        '[[steps]]\nkey = "own"\n\n'
        '[[steps]]\nkey = "apologize"\ntitle = "Say sorry"\n\n'
        '[[steps]]\nkey = "callback"\ntitle = "Call back"\nwhat = "Phone the customer."\nrequired = false\n'
        'words = ["Is now a good time?"]\n'
    )
    playbook = load_playbook(path)
    assert [s.key for s in playbook.steps] == ["own", "apologize", "callback"]
    apologize = playbook.step("apologize")
    assert apologize is not None and apologize.title == "Say sorry" and apologize.action is StepRole.APOLOGY
    callback = playbook.step("callback")
    assert callback is not None and not callback.required and callback.words == ("Is now a good time?",)


def test_yaml_file_is_read_too(tmp_path: Path) -> None:
    path = tmp_path / "p.yml"
    path.write_text("steps:\n  - key: apologize\n  - key: record\n    required: false\n")
    playbook = load_playbook(path)
    record = playbook.step("record")
    assert record is not None and not record.required


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        (
            "p.yaml",
            "steps:\n  - key: apologize\n  - key: newstep\n    titel: x\n",
            ["line 3", "step 2", "titel"],
        ),
        ("p.yaml", "steps:\n  - key: newstep\n", ["line 2", "title", "what"]),
        (
            "p.toml",
            '[[steps]]\nkey = "apologize"\n\n[[steps]]\nkey = "x"\ntitle = "T"\nwhat = "W"\naction = "dance"\n',
            ["line 4", "action", "apology"],
        ),
        ("p.toml", '[[steps]]\nkey = "apologize"\n[[steps]]\nkey = "apologize"\n', ["used twice"]),
        ("p.toml", '[[steps]]\nkey = "Bad Key"\ntitle = "T"\nwhat = "W"\n', ["key", "line 1"]),
        ("p.toml", "steps = 3\n", ["list of `steps`"]),
        ("p.toml", "[[steps]\n", ["not valid TOML"]),
        ("p.yaml", "steps: [\n", ["not valid YAML"]),
        ("p.json", "{}", [".toml, .yaml or .yml"]),
        ("p.toml", "", ["list of `steps`"]),
        ("p.toml", '[[steps]]\nkey = "apologize"\nwords = ["", "x"]\n', ["words"]),
        # The coach is turned off with a real boolean, and only on the apology step.
        (
            "p.toml",
            '[[steps]]\nkey = "listen"\n\n[[steps]]\nkey = "apologize"\ncoach = "no"\n',
            ["line 4", "step 2", "coach", "boolean"],
        ),
        ("p.yaml", "steps:\n  - key: apologize\n    coach: maybe\n", ["line 2", "step 1", "coach"]),
    ],
)
def test_bad_files_name_what_is_wrong(tmp_path: Path, name: str, text: str, expected: list[str]) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(PlaybookError) as info:
        load_playbook(path)
    for needle in expected:
        assert needle in str(info.value)


def test_the_coach_is_on_unless_the_apology_step_turns_it_off(tmp_path: Path) -> None:
    assert all(s.coach for s in DEFAULT_PLAYBOOK.steps)
    path = tmp_path / "p.toml"
    path.write_text('[[steps]]\nkey = "apologize"\ncoach = false\n')
    [apology] = load_playbook(path).steps
    assert apology.action is StepRole.APOLOGY and apology.coach is False


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PlaybookError, match="can't read"):
        load_playbook(tmp_path / "nope.toml")


def test_progress() -> None:
    steps = [CaseStep(case_id=1, position=i, step=s) for i, s in enumerate(DEFAULT_PLAYBOOK.steps)]
    progress = progress_of(steps)
    assert progress.label == "0/8" and progress.current is not None and progress.current.key == "apologize"
    assert len(progress.missing_required) == 7
    steps = [s.model_copy(update={"status": StepStatus.DONE}) if s.step.required else s for s in steps]
    progress = progress_of(steps)
    assert progress.label == "7/8" and progress.missing_required == ()
    assert progress.current is not None and progress.current.key == "amends"
