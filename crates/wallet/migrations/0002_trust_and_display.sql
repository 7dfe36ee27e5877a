-- Which card a contact shows, and how far an arriving card is trusted.

-- A card sent from the web page (by someone without an account) is `unverified` until the user
-- accepts it: it never decides the name, number or email its contact shows, and its numbers
-- and emails are not offered for calls while a verified card is there.
ALTER TABLE cards ADD COLUMN trust TEXT NOT NULL DEFAULT 'verified';  -- verified | unverified
UPDATE cards SET trust = 'unverified' WHERE source = 'web';

-- What a contact shows follows a rule the user can see and change: their own edit first, then
-- the card they chose as primary, then the newest full card of the set they met most often.
ALTER TABLE contacts ADD COLUMN own TEXT;               -- JSON ContactEdit: the user's own edit
ALTER TABLE contacts ADD COLUMN primary_card_id TEXT;   -- the card the user chose to show
ALTER TABLE contacts ADD COLUMN shown_card_id TEXT;     -- the card the rule picked (derived)
ALTER TABLE contacts ADD COLUMN shown_by TEXT NOT NULL DEFAULT 'rule';  -- own | primary | rule

-- Scans that take the other card without giving ours ("save only").
ALTER TABLE outbox ADD COLUMN save_only INTEGER NOT NULL DEFAULT 0;
