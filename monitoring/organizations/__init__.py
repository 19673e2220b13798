"""Organizations (docs/rules.md §12): an organization is the `Owner` row of its stores,
with groups of its stores, members (Django users) holding a role on the organization
or on one group, and tokens with scopes. Models in `models`, the rules of who may do
what in `roles`, changes in `services`."""
