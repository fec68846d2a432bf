"""Pages of the last mile, one module per audience: dispatch (AES), the rider app, failed
deliveries (AES and partners), and the public tracking page."""
