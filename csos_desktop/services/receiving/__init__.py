"""Receiving delivered orders: what the front ends read before a receipt is signed."""
