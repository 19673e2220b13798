"""Stores, their hours and their polls: who may see which (access), what the engine reads (selectors), the poll table's partitions and retention."""
