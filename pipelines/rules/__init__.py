"""The rules: pure tables and functions (text, identity, codes, divisions, transfer types, roles,
checks, workflow, verification, progress, filters). They import nothing else in the house."""
