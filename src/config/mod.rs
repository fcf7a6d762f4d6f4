//! Project configuration: `pyproject.toml` (`[project]`, `[tool.headerwheel]`, `[tool.headerkit]`).
