"""What shoppers tell the bot about themselves: read from their words, stored per user, applied to every search."""
