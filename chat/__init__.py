"""The floor both ``handlers/`` and ``bot/`` stand on: how the bot talks in a chat.

Translations and locale-aware formatting (``chat.i18n``, catalogs in ``chat/locales/``) and sending or editing a
message (``chat.messages``). ``chat`` imports neither ``handlers`` nor ``bot``, so both may import it.
"""
