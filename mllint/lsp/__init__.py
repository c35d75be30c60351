"""`mllint server`: the Language Server Protocol over stdio, on the standard library alone.

protocol (framing), positions (UTF-16 columns, incremental edits), documents (the open files), workspace (the
project scanned once, each document checked again as it changes), diagnostics and actions (findings and fixes as
LSP objects), server (the message loop)."""
