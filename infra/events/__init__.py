"""Events out of the table's stream: every outbox event (`~OUT#`) reaches the listeners that listen to
its type, each effect applied once per (event, listener). docs/design.md, "How features hear about changes"."""
