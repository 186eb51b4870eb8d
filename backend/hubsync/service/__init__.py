"""The thin service layer: load both sides, decide, apply, record. Entry points call it; it calls ports."""
