"""Detection logic, one module per rule family. Rules read the common model only."""
