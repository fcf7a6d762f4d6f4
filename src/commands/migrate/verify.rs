//! migrate writes only what its own backend loads: the planned files are
//! laid over a copy of the project and loaded with [`Project::load`],
//! before anything is written (and for `--dry-run`, on the planned text).

use std::path::Path;

use super::PlannedFile;
use crate::project::Project;

/// Directories the copy leaves out: VCS data, build output, environments
/// (none of them is read by [`Project::load`]).
const SKIPPED_DIRS: &[&str] = &[
    ".git",
    ".hg",
    ".tox",
    ".nox",
    ".venv",
    "venv",
    "build",
    "dist",
    "__pycache__",
    "node_modules",
    ".headerkit",
];

/// Loads the project at `root` as it is once `files` are written: the
/// top-level Python packages it ships, or the loader's error (file, line,
/// key, caret).
pub fn load_planned(root: &Path, files: &[PlannedFile]) -> Result<Vec<String>, String> {
    let tmp = tempfile::tempdir().map_err(|e| format!("a temporary directory: {e}"))?;
    let copy = tmp.path().join("project");
    copy_tree(root, &copy)
        .map_err(|e| format!("copying {} to check the plan: {e}", root.display()))?;
    // A version from-vcs reads the project's own repository.
    let git = root.join(".git");
    if git.is_dir() {
        std::fs::write(copy.join(".git"), format!("gitdir: {}\n", git.display()))
            .map_err(|e| format!("{}: {e}", copy.display()))?;
    } else if git.is_file() {
        std::fs::copy(&git, copy.join(".git")).map_err(|e| format!("{}: {e}", git.display()))?;
    }
    for f in files {
        let p = copy.join(&f.path);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&p, &f.new).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    Project::load(&copy)
        .map(|p| p.tool.packages.into_iter().map(|p| p.name).collect())
        .map_err(|e| {
            format!(
                "the migrated project does not load with headerwheel, so nothing is written:\n{e}"
            )
        })
}

/// Copies the regular files, directories and symbolic links (as links) of
/// `from` into `to`, leaving out [`SKIPPED_DIRS`] and `*.egg-info`.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        let kind = entry.file_type()?;
        let (src, dst) = (entry.path(), to.join(&name));
        let n = name.to_string_lossy();
        if kind.is_dir() {
            if !SKIPPED_DIRS.contains(&n.as_ref()) && !n.ends_with(".egg-info") {
                copy_tree(&src, &dst)?;
            }
        } else if kind.is_symlink() {
            #[cfg(unix)]
            std::os::unix::fs::symlink(std::fs::read_link(&src)?, &dst)?;
        } else if kind.is_file() {
            std::fs::copy(&src, &dst)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_headerwheel_refuses_is_an_error_with_the_loaders_message() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(t.path().join("pkg")).unwrap();
        std::fs::write(t.path().join("pkg/__init__.py"), "").unwrap();
        let planned = |text: &str| {
            vec![PlannedFile {
                path: "pyproject.toml".into(),
                old: None,
                new: text.to_string(),
            }]
        };
        load_planned(
            t.path(),
            &planned("[project]\nname = \"pkg\"\nversion = \"1\"\n"),
        )
        .unwrap();
        let e = load_planned(
            t.path(),
            &planned(
                "[project]\nname = \"pkg\"\nversion = \"1\"\nauthors = [{ email = \"nobody\" }]\n",
            ),
        )
        .unwrap_err();
        assert_eq!(
            e.lines().take(2).collect::<Vec<_>>(),
            [
                "the migrated project does not load with headerwheel, so nothing is written:",
                "pyproject.toml:4:22: project.authors[0].email: 'nobody' is not an email address",
            ]
        );
        // Nothing was written into the project.
        assert!(!t.path().join("pyproject.toml").exists());
    }
}
