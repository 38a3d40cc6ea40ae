"""Files: uploads, their storage (local or S3-compatible) and authorised downloads."""
