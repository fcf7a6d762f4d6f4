//! Files that are not UTF-8 (pyproject.toml, a cdef file) are reported at
//! their first invalid byte: file, line, column and the line quoted.

use headerwheel::hooks::module_sources;
use headerwheel::project::Project;

const PYPROJECT: &str = "[project]\nname = \"p\"\nversion = \"1.0\"\n\n[tool.headerwheel.modules.\"p._m\"]\ncdef = \"m.cdef\"\nmode = \"abi\"\n";

fn project(pyproject: &[u8], cdef: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pyproject.toml"), pyproject).unwrap();
    std::fs::write(dir.path().join("m.cdef"), cdef).unwrap();
    std::fs::create_dir(dir.path().join("p")).unwrap();
    std::fs::write(dir.path().join("p/__init__.py"), "").unwrap();
    dir
}

#[test]
fn a_pyproject_that_is_not_utf8_is_an_error_at_the_byte() {
    let mut bytes = PYPROJECT.as_bytes().to_vec();
    // `name = "p\xe9"`: Latin-1, not UTF-8.
    let at = PYPROJECT.find("\"p\"").unwrap() + 2;
    bytes.insert(at, 0xe9);
    let dir = project(&bytes, b"int f(void);\n");
    let e = Project::load(dir.path()).unwrap_err().to_string();
    assert_eq!(
        e,
        "pyproject.toml:2:10: invalid UTF-8 (byte 0xe9): the file must be UTF-8 text\n  |\n2 | name = \"p\u{fffd}\"\n  |          ^"
    );
}

#[test]
fn a_cdef_file_that_is_not_utf8_is_an_error_at_the_byte() {
    let dir = project(
        PYPROJECT.as_bytes(),
        b"int f(void);\n/* \xc3\xa9 */ int \xff;\n",
    );
    let project = Project::load(dir.path()).unwrap();
    let e = module_sources(&project, &project.tool.modules[0], true)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "module p._m: m.cdef:2:13: invalid UTF-8 (byte 0xff): the file must be UTF-8 text\n    /* é */ int \u{fffd};\n                ^"
    );
}
