class Conflict(Exception):
    """A request that is valid in form but clashes with the current state (HTTP 409).

    ``payload`` is extra data the client needs to recover, e.g. the stages it may choose instead.
    """

    payload: dict

    def __init__(self, message: str, **payload) -> None:
        super().__init__(message)
        self.payload = payload
