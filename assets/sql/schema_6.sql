-- Schema 6: the event types of delegation (a holder's approving role lent to a deputy) and of
-- approval escalation (a step claimed before it is sent, and a failed send). Written to run
-- again harmlessly.

INSERT INTO hotfix.event_kinds (kind) VALUES
  ('role_delegated'),
  ('approval_escalated'),
  ('escalation_failed')
  ON CONFLICT DO NOTHING;
