"""test_readme.py - the README's Python example runs as written (with a
name of this test run, so concurrent runs do not meet)."""

import contextlib
import io
import os
import re

from conftest import TOP, unique


def test_readme_example():
    with open(os.path.join(TOP, "README.md")) as f:
        text = f.read()
    sec = text.split("\n## Python\n", 1)
    assert len(sec) == 2, "README.md has no '## Python' section"
    code = re.search(r"```python\n(.*?)```", sec[1], re.S)
    assert code, "the Python section has no ```python block"
    src = code.group(1).replace("shm://demo", "shm://" + unique("readme"))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(src, "README.md", "exec"), {})
    assert out.getvalue() == "b'hello'\n"
