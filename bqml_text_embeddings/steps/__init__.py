"""One component per tutorial step: what the stack creates."""
