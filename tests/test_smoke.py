def test_it_serves_the_schema(anon_api):
    response = anon_api.get("/api/schema/?format=json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "Corridor API"
