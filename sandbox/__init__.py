"""Try Mend without Slack: Mend wired to the Slack double, and a page at /sandbox that looks like Slack."""
