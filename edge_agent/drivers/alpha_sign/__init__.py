"""Alpha (BetaBrite / M-Protocol) LED sign on a serial line."""
