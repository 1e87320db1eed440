"""The main-menu buttons: each opens the same screen as its command."""

from __future__ import annotations

from telegram import Update

from chat.i18n import _
from handlers import availability, booking, mentor_inbox, my_bookings, offerings, onboarding, profile
from handlers.callbacks import Menu, MenuItem
from handlers.common import AppContext, on_button, show


@on_button(Menu)
async def open_menu_item(update: Update, context: AppContext, data: Menu) -> str | None:
    match data.item:
        case MenuItem.BECOME_MENTOR:
            await offerings.become_mentor(update, context)
        case MenuItem.AVAILABILITY:
            await availability.open_editor(update, context)
        case MenuItem.NEW_OFFERING:
            await offerings.new_offering(update, context)
        case MenuItem.MY_OFFERINGS:
            await offerings.my_offerings(update, context)
        case MenuItem.BOOK:
            await booking.browse(update, context)
        case MenuItem.SETTINGS:
            await onboarding.settings(update, context)
        case MenuItem.LANGUAGE:
            await show(update, _("Choose your language:"), onboarding.language_picker())
        case MenuItem.HELP:
            await onboarding.help_command(update, context)
        case MenuItem.PROFILE:
            await profile.open_profile(update, context)
        case MenuItem.BOOKINGS:
            await mentor_inbox.show_inbox(update, context)
        case MenuItem.MY_BOOKINGS:
            await my_bookings.show_my_bookings(update, context)
    return None
