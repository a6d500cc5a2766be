"""Seatwatch: Atlassian seat usage pipeline."""
