from streamsense.streams.supervision import agent_supervisor


def test_the_agent_supervisor_allows_max_restarts_within_the_window_and_no_more():
    # Faust passes its own limits (100 a second); the worker's replace them
    supervisor = agent_supervisor(max_restarts=3, window_s=300.0)(max_restarts=100.0, over=1.0)
    assert [supervisor._bucket.pour() for _ in range(4)] == [True, True, True, False]
