"""ZKTeco terminals pushing over ADMS (HTTP ``/iclock/*``): the agent is the server."""
