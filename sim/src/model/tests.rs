//! Unit tests of the model in virtual time.
