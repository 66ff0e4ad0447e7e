"""NCPDP SCRIPT messages for EPCS: the NewRx mapping, its signature bytes, safe XML reading."""
