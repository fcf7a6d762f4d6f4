//! CFFI's type model: types with their exact C names, and declarations in CFFI's order.
