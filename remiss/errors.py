"""The one error the workflow raises for a rule a user broke; views show its message."""


class WorkflowError(Exception):
    """A request the rules refuse. `message` is for the user (translated); `field` names the form field."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
