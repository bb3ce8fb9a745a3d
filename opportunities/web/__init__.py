"""Server-rendered pages for listings: browse, detail, form, workflow, moderation, public pages."""
