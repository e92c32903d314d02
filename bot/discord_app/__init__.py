"""The Discord app: the client, one cog per feature, buttons, rendering for Discord, command sync,
connection, stopping, and reloading the notes (by /reload, a watched folder or git)."""
