"""Coding by hand: the logic over annotation rows (queues, agreement, export); the tables live in discourse/store."""
