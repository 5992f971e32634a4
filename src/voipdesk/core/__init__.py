"""What every business area shares: settings, database, clock, money, translations, the outbox."""
