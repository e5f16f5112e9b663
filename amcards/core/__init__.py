"""The pure core: models, validators, request builders, response parsers
and errors.  Nothing here opens a socket, reads a clock or logs.

Importing this package loads nothing; import the module you need.
"""
