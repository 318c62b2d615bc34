"""be-intake: validates and registers Bills of Entry, and answers "where is my BE?"."""
