"""`generate_data`'s counts are whole numbers in ASCII digits (the one grammar)."""

import pytest
from django.core.management import CommandError, call_command


@pytest.mark.parametrize("option, text", [("--stores", "٣"), ("--days", "３"), ("--seed", "١")])
def test_other_digits_and_out_of_range_are_refused(tmp_path, option, text):
    arguments = {"--stores": "2", "--days": "1", "--seed": "0", option: text}
    with pytest.raises(CommandError) as refused:
        call_command("generate_data", str(tmp_path), *(part for pair in arguments.items() for part in pair))
    assert option in str(refused.value)
    assert not list(tmp_path.iterdir())  # nothing written
