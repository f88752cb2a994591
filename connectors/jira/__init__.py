"""Jira Cloud and Data Center: conversion between Jira's REST JSON and the neutral issue model (adf, wiki, model).

The modules are imported one by one (`connectors.jira.model`, …); this package imports nothing on purpose.
"""
