"""One router per resource. Routes convert, call one use case, convert back."""
