"""The account service: registration, login, logout, password change, two-factor
authentication, token checks.

Both edges (REST API and Gradio UI) call these methods. Each idea is its own module over
one shared base (auth/account_base.py: the token's user, failure counting, auth events):
- auth/accounts.py: register, login, change the password, delete the account;
- auth/sessions.py: the token's account, logout, logout everywhere;
- auth/two_factor.py: set up, confirm and turn off two-factor authentication.
"""

from __future__ import annotations

from auth.account_base import Account, ClientInfo, Login
from auth.accounts import Accounts, validate_username
from auth.sessions import Sessions
from auth.two_factor import TwoFactorSwitch

__all__ = ["Account", "AccountService", "ClientInfo", "Login", "validate_username"]


class AccountService(Accounts, Sessions, TwoFactorSwitch):
    """Every account operation the edges call, built once with the shared base's arguments."""
