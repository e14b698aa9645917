"""Which frames of a traceback are the user's: the file, modules beside it or one folder up, and
modules of a package the file imports found further up (`common/` of the book's repositories).
Another program's file that happens to sit a few folders above (this test suite under /tmp, say) is
not the user's, so an error raised there stays the tool's."""

from backprop_doctor.loading.child import _user_frame


def _tree(tmp_path):
    user = tmp_path / "repo" / "ch05" / "deep" / "train.py"
    user.parent.mkdir(parents=True)
    user.write_text("from common.layers import Affine\n", encoding="utf-8")
    common = tmp_path / "repo" / "common" / "layers.py"
    common.parent.mkdir(parents=True)
    common.write_text("x = 1\n", encoding="utf-8")
    other = tmp_path / "repo" / "tools" / "bug.py"
    other.parent.mkdir(parents=True)
    other.write_text("x = 1\n", encoding="utf-8")
    return user, common, other


def test_a_module_of_an_imported_package_further_up_is_the_users(tmp_path):
    user, common, other = _tree(tmp_path)
    assert _user_frame([(str(common), 1, "forward")], str(user)) == (str(common), 1, "forward")


def test_another_file_further_up_is_not_the_users(tmp_path):
    user, common, other = _tree(tmp_path)
    assert _user_frame([(str(other), 1, "run")], str(user)) is None


def test_the_file_itself_and_its_folder_are_the_users(tmp_path):
    user, common, other = _tree(tmp_path)
    beside = user.parent / "util.py"
    beside.write_text("x = 1\n", encoding="utf-8")
    assert _user_frame([(str(user), 3, "<module>")], str(user)) == (str(user), 3, "<module>")
    assert _user_frame([(str(beside), 2, "f")], str(user)) == (str(beside), 2, "f")
