"""A demo storefront and its "internet", served on loopback for the crawler tests."""
