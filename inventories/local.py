"""This machine, without SSH."""

local = ["@local"]
