"""One module per subcommand; ``cnncalc.cli`` assembles them."""
