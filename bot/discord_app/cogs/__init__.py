"""One cog per feature: ask (slash command, context menu), channels (messages), admin (reload), help."""
