"""Who may read what: roles, pseudonyms, conditional sharing (有条件共享) and its read log."""
