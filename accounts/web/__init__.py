"""Server-rendered organisation settings (members, invitations, 2FA rule, tokens, focal point)."""
