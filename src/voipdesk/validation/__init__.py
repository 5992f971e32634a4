"""The VoIP validation procedure: SEPA mandate and supporting documents, reviewed by staff."""
