"""The HTTP layer: authentication, permission guard, problem+json errors, static pages."""
