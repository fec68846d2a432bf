"""Courier companies: one module each (pathao, steadfast) behind the adapter interface in `base`."""
