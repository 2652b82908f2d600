"""Authentication: password hashing, access tokens and the account service."""
