"""The switch: Kamailio's configuration, its Python routing module and the call records."""
