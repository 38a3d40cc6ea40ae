"""Who may do what with which agent: access rules, authorisations, budgets enforced at a
turn, personal agents. Work that spans accounts, agents and billing lives here."""
